import { Thread } from "@mail/core/common/thread_model";

import { patch } from "@web/core/utils/patch";

patch(Thread.prototype, {
    _computeDiscussAppCategory() {
        if (this.channel_type !== "meta") {
            return super._computeDiscussAppCategory();
        }
        return this.meta_platform === "instagram"
            ? this.store.discuss.metaInstagramCategory
            : this.store.discuss.metaMessengerCategory;
    },
    get hasMemberList() {
        return this.channel_type === "meta" || super.hasMemberList;
    },
    get canLeave() {
        return this.channel_type !== "meta" && super.canLeave;
    },
});
