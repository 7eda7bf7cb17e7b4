/** @odoo-module **/
// A Turkish salesperson opens Discuss: the Messenger category, the
// conversation of a customer whose name and message carry markup (shown as
// text, never run), a reply, and its delivery state on the message.

import { registry } from "@web/core/registry";
import {
    assertNoInjection,
    composerSend,
} from "@meta_graph_connector/../tests/tours/meta_tour_utils";

registry.category("web_tour.tours").add("meta_graph_connector_inbox", {
    url: "/odoo/action-mail.action_discuss",
    steps: () => [
        {
            content: "the Messenger category of the sidebar",
            trigger: ".o-meta-DiscussSidebarCategory-messenger",
        },
        {
            content: "the customer's conversation, unread, its name as text",
            trigger: ".o-mail-DiscussSidebarChannel:contains('<b class=\"o_meta_injected\">Eve</b>')",
            run(helpers) {
                assertNoInjection();
                return helpers.click();
            },
        },
        {
            content: "the customer's message, as text",
            trigger: ".o-mail-Message-body:contains('<script>window.__metaXss = 1</script>')",
            run: assertNoInjection,
        },
        {
            trigger: ".o-mail-Composer-input",
            run: "edit Merhaba, size nasıl yardımcı olabilirim?",
        },
        {
            trigger: composerSend(":enabled"),
            run: "click",
        },
        {
            content: "the reply with its delivery state, in Turkish",
            trigger: ".o-mail-Message:contains('size nasıl yardımcı') .o-meta-delivery[data-state='queued']:contains('Kuyrukta')",
            run: assertNoInjection,
        },
    ],
});

registry.category("web_tour.tours").add("meta_graph_connector_inbox_read", {
    url: "/odoo/action-mail.action_discuss",
    steps: () => [
        {
            trigger: ".o-mail-DiscussSidebarChannel:contains('Eve')",
            run: "click",
        },
        {
            content: "Meta said the customer read the reply",
            trigger: ".o-mail-Message:contains('size nasıl yardımcı') .o-meta-delivery[data-state='read']:contains('Okundu')",
        },
        {
            content: "7 days after the customer's last message the composer says why, in full and in Turkish",
            trigger: ".o-meta-ComposerBlocked:contains('Müşterinin son mesajı 7 günden eski: Meta artık işletmenin önce yazmasına izin vermiyor. Müşterinin yazmasını bekleyin.')",
        },
        {
            content: "and takes nothing",
            trigger: ".o-mail-Composer-input[readonly]",
            run() {
                const send = document.querySelector(composerSend());
                if (send && !send.disabled) {
                    throw new Error("a message could be sent outside Meta's window");
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("meta_graph_connector_inbox_human_agent", {
    url: "/odoo/action-mail.action_discuss",
    steps: () => [
        {
            trigger: ".o-mail-DiscussSidebarChannel:contains('Eve')",
            run: "click",
        },
        {
            content: "30 hours after the customer's message a person may still answer, with the Human Agent tag, and is told so",
            trigger: ".o-meta-ComposerHumanAgent:contains('Human Agent')",
        },
        {
            trigger: ".o-mail-Composer-input:not([readonly])",
            run: "edit Geç cevap için kusura bakmayın",
        },
        {
            trigger: composerSend(":enabled"),
            run: "click",
        },
        {
            content: "the message is posted (no longer pending)",
            trigger: ".o-mail-Message:contains('Geç cevap için') .o-mail-Message-content:not(.opacity-50)",
        },
    ],
});
