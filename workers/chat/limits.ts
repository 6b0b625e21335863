// Sizes a chat holds to, shared by the frame parser, the object and the routes.
export const MAX_TEXT = 8000;
/** Messages in one chat (its transcript is written to D1 in one transaction at the end). */
export const MAX_MESSAGES = 2000;
export const MAX_FILES = 50;
