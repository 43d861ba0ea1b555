// Payloads Slack refuses. tsc must refuse each one: an unused @ts-expect-error
// fails the check, so Slack's types cannot silently stop judging.
import type { KnownBlock, HomeView, ModalView } from "@slack/types";
import type { AppsManifestValidateArguments } from "@slack/web-api";

type Manifest = AppsManifestValidateArguments["manifest"];

export const badButton: KnownBlock[] = [
  {
    type: "actions",
    // @ts-expect-error a button's text must be plain_text
    elements: [{ type: "button", action_id: "a", text: { type: "mrkdwn", text: "x" } }],
  },
];
// @ts-expect-error emoji is allowed on plain_text only
export const badEmoji: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: "x", emoji: true } }];
// @ts-expect-error a home view has no submit button
export const badHome: HomeView = { type: "home", blocks: [], submit: { type: "plain_text", text: "Send" } };
// @ts-expect-error a modal needs a title
export const badModal: ModalView = { type: "modal", blocks: [] };
export const badManifest: Manifest = {
  display_information: { name: "x" },
  // @ts-expect-error an unknown scope
  oauth_config: { scopes: { bot: ["chat:writ"] } },
};
