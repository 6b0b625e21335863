// Sizes a chat holds to, shared by the frame parser, the object and the routes.
export const MAX_TEXT = 8000;
/** Messages (notices included) a chat holds before the customer may post no more. */
export const MAX_MESSAGES = 2000;
/** The hard bound, for staff: room for the agent to answer after a customer filled the chat to
 *  MAX_MESSAGES (the transcript is written to D1 in one transaction at the end). */
export const MAX_ALL_MESSAGES = 3000;
export const MAX_FILES = 50;
/** A customer's messages and files, per participant (token bucket): a burst of `max`, then `max` per
 *  `perSeconds`. The tenant's `chat.messageRate` overrides it. */
export const DEFAULT_CUSTOMER_MESSAGE_RATE = { max: 20, perSeconds: 10 } as const;
