-- Issue 12, item 11a: SMS/MMS senders are now kept in E.164 on every door. Before, an MM7 relay's
-- bare-digit sender (14155550177) was stored as written, so its STOP did not cover +14155550177.
-- Each such opt-out gets its E.164 twin (the old row stays: more refusals, never fewer). Only 11 to
-- 15 digits are taken as international: ten or fewer may be a national number, not guessed at.
INSERT OR IGNORE INTO sms_opt_outs (tenant_id, center, customer, opted_out_at)
SELECT tenant_id, center, '+' || customer, opted_out_at FROM sms_opt_outs
WHERE customer NOT GLOB '*[^0-9]*' AND customer GLOB '[1-9]*' AND length(customer) BETWEEN 11 AND 15;
