-- A neutralized copy (staging, backup restore) must not talk to Meta with
-- production credentials nor accept Meta's webhooks.
UPDATE meta_account
   SET page_access_token = NULL,
       user_access_token = NULL,
       state = 'disconnected';
DELETE FROM ir_config_parameter
 WHERE key IN ('meta_graph_connector.app_secret',
               'meta_graph_connector.app_secret_previous',
               'meta_graph_connector.verify_token');
