import { DiscussApp } from "@mail/core/public_web/discuss_app_model";
import { DiscussAppCategory } from "@mail/core/public_web/discuss_app_category_model";
import { Record } from "@mail/core/common/record";

import { patch } from "@web/core/utils/patch";

import {
    compareMetaThreads,
    isMetaCategory,
    metaInstagramCategory,
    metaMessengerCategory,
} from "@meta_graph_connector/conversations/meta_conversation";

/** Messenger and Instagram conversations: a sidebar category each. */
patch(DiscussApp.prototype, {
    setup() {
        super.setup(...arguments);
        this.metaMessengerCategory = Record.one("DiscussAppCategory", {
            compute: metaMessengerCategory,
        });
        this.metaInstagramCategory = Record.one("DiscussAppCategory", {
            compute: metaInstagramCategory,
        });
    },
});

patch(DiscussAppCategory.prototype, {
    sortThreads(t1, t2) {
        return isMetaCategory(this) ? compareMetaThreads(t1, t2) : super.sortThreads(t1, t2);
    },
});
