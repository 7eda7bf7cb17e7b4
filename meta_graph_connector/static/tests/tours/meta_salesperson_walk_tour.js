/** @odoo-module **/
// A Turkish salesperson's day with Meta leads, in Turkish: the pipeline's
// platform badges, the "Instagram'dan" filter, a lead's Meta tab and the
// speed-to-lead report; no Meta administration on the way.

import { registry } from "@web/core/registry";
import { stepUtils } from "@meta_graph_connector/../tests/meta_step_utils";

registry.category("web_tour.tours").add("meta_graph_connector_salesperson_walk", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
        {
            content: "the pipeline card of an Instagram lead carries its badge",
            trigger: ".o_kanban_record:contains('Elif Şahin') .o_meta_platform_badge:contains('Instagram')",
        },
        {
            trigger: ".o_kanban_record:contains('Burak Yıldız') .o_meta_platform_badge:contains('Facebook')",
        },
        {
            content: "no banner for a salesperson",
            trigger: "body:not(:has(.o_meta_attention_banner))",
        },
        {
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "the filter is in Turkish",
            trigger: ".o_filter_menu .o_menu_item:contains(\"Instagram'dan\")",
            run: "click",
        },
        {
            content: "only the Instagram lead is left",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains('Burak Yıldız'))) .o_kanban_record:contains('Elif Şahin')",
        },
        {
            trigger: ".o_kanban_record:contains('Elif Şahin')",
            run: "click",
        },
        {
            content: "the lead's Meta tab",
            trigger: ".o_form_view a.nav-link[name='meta']",
            run: "click",
        },
        {
            content: "the form's answers, with Turkish labels",
            trigger: ".o_form_view .o_meta_answers th:contains('Şehir')",
        },
        {
            trigger: ".o_form_view label:contains('Aday Formu')",
        },
        {
            content: "the activity the cron wrote, in Turkish",
            trigger: ".o_form_view .o-mail-Chatter, .o_form_view .o_field_widget[name='activity_ids']",
        },
        {
            trigger: ".o_menu_sections button[data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='meta_graph_connector.meta_lead_report_menu_speed']:contains('Adaya Ulaşma Hızı')",
            run: "click",
        },
        {
            content: "the speed-to-lead graph",
            trigger: ".o_graph_view .o_graph_canvas_container canvas",
        },
        {
            content: "no Meta administration menu for a salesperson",
            trigger: "body:not(:has([data-menu-xmlid='meta_graph_connector.meta_graph_connector_menu_root']))",
        },
    ],
});
