// What the step-up fields of a settings form show (the server's StepUpView, sent to the page),
// and the refusal a form action returns next to its own message when the proof was missing or
// wrong. The rule itself is $lib/server/auth/step-up.ts.
export type StepUpView = {
	proven: boolean;
	provenUntil: string | null;
	password: boolean;
	code: boolean;
	passkey: boolean;
	recoverySession: boolean;
	needs: string;
};

export type StepUpRefusal = { message: string; field: string | null } | null | undefined;
