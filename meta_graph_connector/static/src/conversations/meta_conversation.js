import { compareDatetime } from "@mail/utils/common/misc";

import { _t } from "@web/core/l10n/translation";

/**
 * What the Discuss side of Messenger and Instagram conversations is, the
 * same on every series; ``series/<series>/conversations/`` plugs it into
 * that series' Discuss models and thread actions.
 */

/** The sidebar category of Messenger conversations. */
export function metaMessengerCategory() {
    return {
        extraClass: "o-meta-DiscussSidebarCategory-messenger",
        icon: "fa fa-facebook-square",
        hideWhenEmpty: true,
        id: "meta_graph_connector.messenger",
        name: _t("Messenger"),
        sequence: 22,
    };
}

/** The sidebar category of Instagram conversations. */
export function metaInstagramCategory() {
    return {
        extraClass: "o-meta-DiscussSidebarCategory-instagram",
        icon: "fa fa-instagram",
        hideWhenEmpty: true,
        id: "meta_graph_connector.instagram",
        name: _t("Instagram"),
        sequence: 23,
    };
}

/** Whether a sidebar category is one of Meta's conversations. */
export function isMetaCategory(category) {
    return category.id.startsWith("meta_graph_connector.");
}

/** In a Meta category, the conversation where the customer wrote last first. */
export function compareMetaThreads(t1, t2) {
    return compareDatetime(t2.lastInterestDt, t1.lastInterestDt) || t2.id - t1.id;
}

/** The conversation's card: its customer, agent, leads, "Create Lead". */
export const metaConversationAction = {
    icon: "fa fa-fw fa-id-card-o",
    name: _t("Conversation and Leads"),
    sequence: 15,
};

/** Opens the card of the conversation ``thread``. */
export async function openMetaConversation(services, thread) {
    const action = await services.orm.call("discuss.channel", "action_meta_open_form", [
        [thread.id],
    ]);
    return services.action.doAction(action);
}
