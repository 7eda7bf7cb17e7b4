/** @odoo-module **/
// A Turkish salesperson opens a lead whose customer commented on the
// Page: the "Sosyal" button, the comment (a script and an image in its text
// and the author's name, shown as text, never run), the note in the chatter.

import { registry } from "@web/core/registry";
import { assertNoInjection } from "@meta_graph_connector/../tests/tours/meta_tour_utils";

registry.category("web_tour.tours").add("meta_graph_connector_social_comments", {
    steps: () => [
        {
            content: "the comment's note in the lead's chatter, as text",
            trigger: ".o-mail-Message-body:contains('<script>window.__metaXss = 1</script>')",
            run: assertNoInjection,
        },
        {
            content: "the Social button on the lead, in Turkish",
            trigger: ".o_form_view button[name='action_meta_social_comments']:contains('Sosyal')",
            run: "click",
        },
        {
            content: "the comment in the list, as text",
            trigger: ".o_list_view .o_data_row td:contains('<img src=x onerror')",
            run: assertNoInjection,
        },
        {
            trigger: ".o_list_view .o_data_row td[name='text']",
            run: "click",
        },
        {
            content: "the comment's form: its author's name as text, a Reply button",
            trigger: ".o_form_view h1:contains('<b class=\"o_meta_injected\">')",
            run: assertNoInjection,
        },
        {
            trigger: ".o_form_view button[name='action_open_reply']:contains('Yanıtla')",
            run: assertNoInjection,
        },
    ],
});
