/** @odoo-module **/
// A Meta administrator opens CRM's pipeline: the banner says which
// connection needs attention and why, and opens it.

import { registry } from "@web/core/registry";
import { stepUtils } from "@meta_graph_connector/../tests/meta_step_utils";

registry.category("web_tour.tours").add("meta_graph_connector_attention_banner", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
        {
            content: "the pipeline shows the banner above the columns",
            trigger: ".o_kanban_view .o_meta_attention_banner.alert-danger:contains('Anadolu Mobilya Business'):contains('Lead Ads stops')",
        },
        {
            trigger: ".o_meta_attention_banner button:contains('Open the connection')",
            run: "click",
        },
        {
            content: "the connection says what is wrong in words",
            trigger: ".o_form_view .alert-danger:contains('leads_retrieval')",
        },
    ],
});
