// One error shape for every socket (pure; the browser apps import it too), the same as the HTTP error body: `{ type: "error", error: { code, message } }`.

export interface ErrorFrame {
  type: "error";
  error: { code: string; message: string };
}

export const errorFrame = (code: string, message: string): ErrorFrame => ({ type: "error", error: { code, message } });

/** Close code for a refusal: 4000 + the HTTP status it would have had (4401, 4403, 4404, 4429…). */
export const refusalCloseCode = (status: number): number => 4000 + Math.min(Math.max(status, 400), 599);
