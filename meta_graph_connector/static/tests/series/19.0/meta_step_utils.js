/** @odoo-module alias=@meta_graph_connector/../tests/meta_step_utils default=false */
// The tour helpers of Odoo 19.0, under the name the shared tours import.

export { stepUtils } from "@web_tour/tour_utils";
