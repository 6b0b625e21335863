// Browser notifications for offers and returned work while the desktop is in the background.
// Permission is asked only from a click (browsers refuse it otherwise).

export const canNotify = () => typeof Notification !== "undefined";

export async function askPermission(): Promise<NotificationPermission> {
  if (!canNotify()) return "denied";
  return Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
}

export function notify(title: string, body: string, tag: string): void {
  if (!canNotify() || Notification.permission !== "granted" || document.visibilityState === "visible") return;
  const n = new Notification(title, { body, tag });
  n.onclick = () => {
    window.focus();
    n.close();
  };
}
