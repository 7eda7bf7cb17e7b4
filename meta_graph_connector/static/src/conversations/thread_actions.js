import { threadActionsRegistry } from "@mail/core/common/thread_actions";

import { _t } from "@web/core/l10n/translation";

/** The conversation's card: its customer, agent, leads, "Create Lead". */
threadActionsRegistry.add("meta-conversation", {
    condition(component) {
        return component.thread?.channel_type === "meta" && !component.props.chatWindow;
    },
    icon: "fa fa-fw fa-id-card-o",
    name: _t("Conversation and Leads"),
    async open(component) {
        const action = await component.env.services.orm.call(
            "discuss.channel",
            "action_meta_open_form",
            [[component.thread.id]]
        );
        component.env.services.action.doAction(action);
    },
    sequence: 15,
});
