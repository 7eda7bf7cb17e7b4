import { DiscussApp } from "@mail/core/public_web/discuss_app_model";
import { DiscussAppCategory } from "@mail/discuss/core/public_web/discuss_app_category_model";
import { fields } from "@mail/core/common/record";

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
        this.metaMessengerCategory = fields.One("DiscussAppCategory", {
            compute: metaMessengerCategory,
            eager: true,
        });
        this.metaInstagramCategory = fields.One("DiscussAppCategory", {
            compute: metaInstagramCategory,
            eager: true,
        });
    },
});

patch(DiscussAppCategory.prototype, {
    sortThreads(t1, t2) {
        return isMetaCategory(this) ? compareMetaThreads(t1, t2) : super.sortThreads(t1, t2);
    },
});
