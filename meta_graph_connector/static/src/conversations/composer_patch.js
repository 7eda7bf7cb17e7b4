import { Composer } from "@mail/core/common/composer";

import { patch } from "@web/core/utils/patch";

/** The composer of a conversation says why Meta would refuse a message. */
patch(Composer.prototype, {
    get placeholder() {
        if (this.thread?.channel_type === "meta" && this.thread.meta_send_refusal) {
            return this.thread.meta_send_refusal;
        }
        return super.placeholder;
    },
});
