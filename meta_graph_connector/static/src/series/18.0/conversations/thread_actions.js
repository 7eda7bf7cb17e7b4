import { threadActionsRegistry } from "@mail/core/common/thread_actions";

import {
    metaConversationAction,
    openMetaConversation,
} from "@meta_graph_connector/conversations/meta_conversation";

/** The conversation's card, from the header of a conversation in Discuss. */
threadActionsRegistry.add("meta-conversation", {
    ...metaConversationAction,
    condition(component) {
        return component.thread?.channel_type === "meta" && !component.props.chatWindow;
    },
    open(component) {
        return openMetaConversation(component.env.services, component.thread);
    },
});
