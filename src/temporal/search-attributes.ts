import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Keyword search attributes on every Herald workflow, for filtering in the Temporal Web UI. */
export const searchAttributes = {
  applicationId: defineSearchAttributeKey('HeraldApplicationId', SearchAttributeType.KEYWORD),
  webhookId: defineSearchAttributeKey('HeraldWebhookId', SearchAttributeType.KEYWORD),
  eventType: defineSearchAttributeKey('HeraldEventType', SearchAttributeType.KEYWORD),
};
