import type { ErrorCode } from "../errors";

/** A link on an error page: where it goes, and what it says. */
export interface PageLink {
  href: string;
  label: string;
}

/** What an error page says: plain words, no codes, never why a token was refused (contract §9). */
export interface PageText {
  /** The heading, also the document's title. */
  heading: string;
  /** What happened, in a sentence. */
  message: string;
  /** What to do about it, in a sentence. */
  action: string;
  link?: PageLink;
}

/** What the page's words depend on besides the code. */
export interface PageFacts {
  /** `Retry-After` in seconds, when the response has one. */
  retryAfter?: number;
  /** The login page, with `next` back to this page where that makes sense; `undefined` in a misconfigured gate. */
  loginHref?: string;
}

const HOME: PageLink = { href: "/", label: "Go to the home page" };

/** "1 second", "30 seconds"; "a few moments" when the wait is unknown. */
function wait(seconds: number | undefined): string {
  if (seconds === undefined) return "a few moments";
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

const SOMETHING_WENT_WRONG: PageText = {
  heading: "Something went wrong on our side",
  message: "This isn't caused by anything you did.",
  action: "Please try again in a few moments. If it keeps happening, contact the site's support and quote the reference below.",
};

type Words = (facts: PageFacts) => PageText;

const login = (facts: PageFacts, label: string) => (facts.loginHref ? { href: facts.loginHref, label } : undefined);

/**
 * The words of the built-in page for each code: the answer to "what happened,
 * and what can I do" (log in again, wait, go back, clear cookies).
 */
const PAGES: Record<ErrorCode, Words> = {
  unauthenticated: (facts) => ({
    heading: "Please log in",
    message: "You're not logged in, or your session has ended.",
    action: "Log in again to continue.",
    link: login(facts, "Log in"),
  }),
  reauthentication_required: (facts) => ({
    heading: "Please log in again",
    message: "To keep your account safe, this page needs a recent login.",
    action: "Log in again to continue.",
    link: login(facts, "Log in again"),
  }),
  forbidden: () => ({
    heading: "You don't have access to this page",
    message: "Your account isn't allowed to open this page.",
    action: "If you think you should have access, ask the person who manages this site.",
    link: HOME,
  }),
  // DBSC (contract §12): the session is valid, but not bound to this device.
  device_binding_required: (facts) => ({
    heading: "This page needs a more secure login",
    message: "This page can only be opened when your login is tied to this device, and this login isn't.",
    action: "Log in again in a browser that supports this, such as a recent version of Chrome.",
    link: login(facts, "Log in again"),
  }),
  csrf: () => ({
    heading: "This request was blocked",
    message: "This request came from another site, so it was stopped to protect your account.",
    action: "Go back and try again from the site itself.",
    link: HOME,
  }),
  rate_limited: (facts) => ({
    heading: "Too many requests",
    message: "You've sent too many requests in a short time.",
    action: `Please wait ${wait(facts.retryAfter)}, then try again.`,
  }),
  unavailable: (facts) => ({
    heading: "Temporarily unavailable",
    message: "This site is temporarily unavailable.",
    action: `Please try again in ${wait(facts.retryAfter)}.`,
  }),
  bad_request: () => ({
    heading: "Something's wrong with this request",
    message: "The address or the request couldn't be understood.",
    action: "Check the address, or go back and try again.",
    link: HOME,
  }),
  not_found: () => ({
    heading: "Page not found",
    message: "There's nothing at this address.",
    action: "Check the address, or start again from the home page.",
    link: HOME,
  }),
  method_not_allowed: () => ({
    heading: "This can't be done here",
    message: "This page can't be used this way.",
    action: "Go back and try again from the site itself.",
    link: HOME,
  }),
  request_header_fields_too_large: () => ({
    heading: "Your browser sent too much data",
    message: "Your browser sent more cookies or data than this site accepts.",
    action: "Clear this site's cookies in your browser's settings, then try again.",
  }),
  misdirected_request: () => ({
    heading: "Wrong address",
    message: "This site can't be reached at this address.",
    action: "Check the address you typed or the link you followed.",
  }),
  bad_gateway: () => ({
    heading: "The site isn't responding",
    message: "We couldn't reach the site just now.",
    action: "Please try again in a few moments.",
  }),
  misconfigured: () => SOMETHING_WENT_WRONG,
  internal_error: () => SOMETHING_WENT_WRONG,
};

/** The words of the built-in page for `code` (contract §9). */
export function pageText(code: ErrorCode, facts: PageFacts): PageText {
  return PAGES[code](facts);
}
