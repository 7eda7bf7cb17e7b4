/** @odoo-module **/
// Click through every screen the addon adds, from the CRM menu, as an
// administrator would: each step waits for rendered content, and any error
// dialog or console error fails the tour.

import { registry } from "@web/core/registry";
import { stepUtils } from "@meta_graph_connector/../tests/meta_step_utils";

registry.category("web_tour.tours").add("meta_graph_connector_views", {
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
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_connection_menu']",
            run: "click",
        },
        {
            content: "connections list",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Anadolu Mobilya')",
            run: "click",
        },
        {
            content: "connection form with health, assets and chatter",
            trigger: ".o_form_view .o_field_widget[name='asset_ids'] .o_data_row td[name='name']:contains('Anadolu Mobilya')",
        },
        {
            trigger: ".o_form_view .o-mail-Chatter",
        },
        {
            trigger: ".o_form_view button[name='action_check_health']",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_webhook_event_menu']",
            run: "click",
        },
        {
            content: "inbox list (filter on failed and dead events)",
            trigger: ".o_list_view .o_data_row td[name='kind']:contains('Lead Ads')",
            run: "click",
        },
        {
            content: "inbox form shows the raw payload",
            trigger: ".o_form_view .o_field_widget[name='payload_text']",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_asset_menu']",
            run: "click",
        },
        {
            content: "assets grouped by type",
            trigger: ".o_list_view .o_group_header:contains('Facebook Page')",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_outbox_menu']",
            run: "click",
        },
        {
            content: "outbox list",
            trigger: ".o_list_view .o_data_row td[name='operation']:contains('create_test_lead')",
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
            content: "connect wizard: Connect with Facebook first",
            trigger: ".modal button.o_meta_connect_with_facebook",
        },
        {
            content: "the System User token is the advanced path",
            trigger: ".modal details summary:contains('System User token')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='access_token'] input",
        },
        {
            trigger: ".modal .modal-footer button[special='cancel']",
            run: "click",
        },
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='base.menu_administration']",
            run: "click",
        },
        {
            trigger: ".settings_tab .tab[data-key='meta_graph_connector']",
            run: "click",
        },
        {
            content: "Meta settings block links to the Meta app",
            trigger: ".app_settings_block[data-key='meta_graph_connector'] button[name]:contains('Configure the Meta App')",
        },
        {
            content: "Meta settings show the health of the connections",
            trigger: ".app_settings_block[data-key='meta_graph_connector'] .o_field_widget[name='meta_health_html']:contains('Anadolu Mobilya')",
        },
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
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_app_menu']",
            run: "click",
        },
        {
            content: "Meta app form: credentials, webhooks and Graph API",
            trigger: ".o_form_view .o_field_widget[name='app_secret'] input[type='password']",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='verify_token']",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='graph_base_url'] input",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_lead_form_menu']",
            run: "click",
        },
        {
            content: "lead forms list",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Form')",
            run: "click",
        },
        {
            content: "mapping grid of the form",
            trigger: ".o_form_view .o_field_widget[name='field_ids'] .o_data_row td[name='label']:contains('Full name')",
        },
        {
            trigger: ".o_form_view .oe_stat_button[name='action_view_leads']",
            run: "click",
        },
        {
            content: "the form's leads",
            trigger: ".o_list_view .o_data_row .o_data_cell[name='name']",
            run: "click",
        },
        {
            trigger: ".o_form_view a.nav-link[name='meta']",
            run: "click",
        },
        {
            content: "Meta tab with the escaped answers",
            trigger: ".o_form_view .o_meta_answers th",
        },
    ],
});
