"""Random two-word code names, so a case can be spoken of without naming anyone."""

from __future__ import annotations

import secrets

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
