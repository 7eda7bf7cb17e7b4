/** @odoo-module **/
// Connect with Facebook as an administrator: the Odoo half of the flow. The
// test drives Meta's dialog (another origin) between the two tours; the
// first one ends with the click that leaves Odoo for Facebook.

import { registry } from "@web/core/registry";
import { stepUtils } from "@meta_graph_connector/../tests/meta_step_utils";

registry.category("web_tour.tours").add("meta_graph_connector_connect_with_facebook", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_connect_wizard_menu']",
            run: "click",
        },
        {
            content: "the redirect URI to register in the Meta app is shown",
            trigger: ".modal .o_field_widget[name='redirect_uri']:contains('/meta/oauth/callback')",
        },
        {
            content: "ask for Messenger too",
            trigger: ".modal .o_field_widget[name='feature_messenger'] input",
            run: "click",
        },
        {
            content: "its permission is listed",
            trigger: ".modal .o_field_widget[name='login_scopes']:contains('pages_messaging')",
        },
        {
            trigger: ".modal button.o_meta_connect_with_facebook",
            run: "click",
        },
    ],
});

registry.category("web_tour.tours").add("meta_graph_connector_pick_pages", {
    steps: () => [
        {
            content: "the Pages Facebook granted, to pick from, in a dialog",
            trigger: ".modal .modal-title:contains('Pick your Pages')",
        },
        {
            trigger: ".modal .o_field_widget[name='page_ids'] label:contains('Üsküdar Mağaza')",
        },
        {
            content: "no record page: no New button, no pager",
            trigger: "body:not(:has(.o_form_button_create)):not(:has(.o_pager))",
        },
        {
            content: "leave the second Page out",
            trigger: ".modal .o_field_widget[name='page_ids'] .form-check:contains('Üsküdar Mağaza') input",
            run: "click",
        },
        {
            trigger: ".modal button[name='action_use_pages']",
            run: "click",
        },
        {
            content: "the new connection, connected, with its Page",
            trigger: ".o_form_view .o_field_widget[name='asset_ids'] .o_data_row td[name='name']:contains('Anadolu Mobilya')",
        },
        {
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Connected')",
        },
    ],
});
