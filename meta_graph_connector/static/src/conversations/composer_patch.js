import { Composer } from "@mail/core/common/composer";

import { patch } from "@web/core/utils/patch";

/**
 * The composer of a Messenger or Instagram conversation follows Meta's rule
 * of the moment, as the server words it in the reader's language
 * (``_meta_composer_values``): when nothing can be sent it is blocked and
 * says why, in full; between 24 hours and 7 days it says the answer goes
 * with the Human Agent tag, where Meta allows it.
 */
patch(Composer.prototype, {
    get metaRefusal() {
        const thread = this.thread;
        if (thread?.channel_type !== "meta" || this.props.composer.message) {
            return false;
        }
        return thread.meta_send_refusal || false;
    },
    get metaHumanAgentNote() {
        const thread = this.thread;
        if (thread?.channel_type !== "meta" || this.metaRefusal) {
            return false;
        }
        return thread.meta_human_agent_note || false;
    },
    get isSendButtonDisabled() {
        return Boolean(this.metaRefusal) || super.isSendButtonDisabled;
    },
    async sendMessage() {
        if (this.metaRefusal) {
            return;
        }
        return super.sendMessage(...arguments);
    },
});
