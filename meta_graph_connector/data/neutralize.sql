-- A neutralized copy (staging, backup restore) must not talk to Meta with
-- production credentials nor accept Meta's webhooks.
UPDATE meta_connection
   SET access_token = NULL,
       state = 'disconnected';
UPDATE meta_asset
   SET access_token = NULL;
UPDATE meta_app
   SET app_secret = NULL,
       app_secret_previous = NULL,
       verify_token = NULL;
