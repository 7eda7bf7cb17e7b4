import { DiscussApp } from "@mail/core/public_web/discuss_app_model";
import { DiscussAppCategory } from "@mail/core/public_web/discuss_app_category_model";
import { Record } from "@mail/core/common/record";
import { compareDatetime } from "@mail/utils/common/misc";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** Messenger and Instagram conversations: a sidebar category each. */
patch(DiscussApp.prototype, {
    setup(env) {
        super.setup(env);
        this.metaMessengerCategory = Record.one("DiscussAppCategory", {
            compute() {
                return {
                    extraClass: "o-meta-DiscussSidebarCategory-messenger",
                    icon: "fa fa-facebook-square",
                    hideWhenEmpty: true,
                    id: "meta_graph_connector.messenger",
                    name: _t("Messenger"),
                    sequence: 22,
                };
            },
        });
        this.metaInstagramCategory = Record.one("DiscussAppCategory", {
            compute() {
                return {
                    extraClass: "o-meta-DiscussSidebarCategory-instagram",
                    icon: "fa fa-instagram",
                    hideWhenEmpty: true,
                    id: "meta_graph_connector.instagram",
                    name: _t("Instagram"),
                    sequence: 23,
                };
            },
        });
    },
});

patch(DiscussAppCategory.prototype, {
    sortThreads(t1, t2) {
        if (this.id.startsWith("meta_graph_connector.")) {
            // the conversation where the customer wrote last first
            return compareDatetime(t2.lastInterestDt, t1.lastInterestDt) || t2.id - t1.id;
        }
        return super.sortThreads(t1, t2);
    },
});
