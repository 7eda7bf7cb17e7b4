import { registerThreadAction } from "@mail/core/common/thread_actions";

import {
    metaConversationAction,
    openMetaConversation,
} from "@meta_graph_connector/conversations/meta_conversation";

/** The conversation's card, from the header of a conversation in Discuss. */
registerThreadAction("meta-conversation", {
    ...metaConversationAction,
    condition({ owner, thread }) {
        return (
            thread?.channel_type === "meta" &&
            !owner.props.chatWindow &&
            !owner.isDiscussSidebarChannelActions
        );
    },
    open({ store, thread }) {
        return openMetaConversation(store.env.services, thread);
    },
});
