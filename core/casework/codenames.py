"""Random two-word code names, so a case can be spoken of without naming anyone."""

from __future__ import annotations

import secrets
from collections.abc import Collection

from sqlalchemy import Connection, bindparam, select

from core.infra.models import Case, Person

ADJECTIVES = tuple(
    """
    amber azure brisk calm cedar coral crisp dawn dusky early fern gentle golden hazel
    indigo ivory jade keen lilac lunar maple misty mossy noble ochre olive pale pearl
    quiet rapid rosy rustic sage silver slate snowy solar stony sunny tawny teal tidal
    umber velvet violet warm wild windy woven young zesty bright clear agile airy ample
    balmy bold breezy bronze candid cobalt cosy cozy curly dappled deft dewy distant
    dreamy dusty eager elder even fabled faint fair fleet floral fluent foggy frosty
    glossy grand grassy hardy hearty hidden humble icy jolly kind leafy level light
    limber lively lofty loyal lucid mellow merry mild minty modest narrow neat nimble
    nutty open patient placid plain polished proud quick radiant rainy ready regal rich
    ripe robust round royal ruby russet sandy scarlet serene shady sharp shiny silky
    simple sleek smooth snug soft spare spry steady still sturdy subtle swift tender
    tidy tranquil true upbeat urban vast vivid wary wise witty zealous
    """.split()
)
NOUNS = tuple(
    """
    acorn alder badger beacon birch brook canyon comet cove crane delta dune falcon
    fjord finch glade grove harbor heron hollow island juniper kestrel lagoon lantern
    larch meadow mesa orchard otter owl pebble pine plover quail quarry raven reef
    ridge river robin sparrow spruce summit thistle tide valley willow wren yarrow
    aspen basin bay bluff boulder bramble breeze brook butte cairn cascade cliff clover
    cloud coast cypress dale dell ember estuary fen fern field firth flint forest
    fountain garnet geyser glacier gorge granite gull hawk heath hill holly inlet iris
    ivy kettle knoll lake lark laurel ledge lily lynx maple marsh marten mist moor moss
    oak oasis ocean orca osprey pass peak pelican petrel pond poplar prairie puffin
    rain rapids reed rook rowan sage salmon sand shore sky slope snow spring stag star
    stone stream swan tern thicket thrush timber trail trout tundra vale vine wave
    """.split()
)


def new_code_name(suffix: bool = False) -> str:
    """An adjective-noun pair; the database enforces uniqueness and callers retry.

    After a few collisions callers ask for a numeric suffix, so even a very busy
    desk never runs out of names.
    """
    name = f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"
    if suffix:
        name += f"-{secrets.randbelow(900) + 100}"
    return name


def new_token(nbytes: int = 12) -> str:
    """An unguessable, address-safe token (lowercase, since mail systems fold case)."""
    return secrets.token_hex(nbytes)


ATTEMPTS = 12
_TAKEN = {
    table: select(table.code_name).where(table.code_name.in_(bindparam("names", expanding=True)))
    for table in (Case, Person)
}


def free_code_names(
    conn: Connection, count: int, *, people: bool = False, avoid: Collection[str] = ()
) -> list[str]:
    """`count` code names nobody holds yet, for cases or (`people`) for people.

    Names are drawn at random from a finite space and the columns are unique: a draw
    that collides would fail the whole intake at commit, so draws are checked against
    the record (one query per round, whatever `count`) and against `avoid`, names
    given in the same unit of work and not yet written. People's names always carry
    a number, as there are far more people than cases; cases' do after six rounds.
    """
    names: list[str] = []
    for attempt in range(ATTEMPTS):
        wanted = count - len(names)
        suffix = people or attempt >= 6
        candidates = list(dict.fromkeys(new_code_name(suffix=suffix) for _ in range(wanted)))
        taken = set(conn.scalars(_TAKEN[Person if people else Case], {"names": candidates}))
        taken.update(avoid)
        names += [n for n in candidates if n not in taken and n not in names][:wanted]
        if len(names) == count:
            return names
    raise RuntimeError("could not allocate a code name")
