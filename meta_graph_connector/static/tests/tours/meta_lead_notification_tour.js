/** @odoo-module **/
// Two leads in a row make one toast that opens them both.

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("meta_graph_connector_lead_notification", {
    url: "/odoo",
    steps: () => [
        {
            content: "one toast for the burst, not one per lead",
            trigger: ".o_notification.o_meta_lead_notification:contains('2 new Meta leads'):contains('Zeynep Kaya'):contains('Mehmet Demir')",
        },
        {
            trigger: ".o_notification.o_meta_lead_notification button:contains('Open the leads')",
            run: "click",
        },
        {
            content: "the leads of the toast",
            trigger: ".o_list_view .o_data_row:contains('Zeynep Kaya') ~ .o_data_row:contains('Mehmet Demir'), .o_list_view .o_data_row:contains('Mehmet Demir') ~ .o_data_row:contains('Zeynep Kaya')",
        },
        {
            content: "the toast is gone once used",
            trigger: "body:not(:has(.o_meta_lead_notification))",
        },
    ],
});
