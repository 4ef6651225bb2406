// The shapes Totp.svelte and RecoveryCodes.svelte read from the page's data and form.
export type TwoFactorData = {
	hasPassword: boolean;
	totpEnabled: boolean;
	totpEnabledAt: string | null;
	enrolling: { qrSvg: string; secretText: string } | null;
	recoveryCodesLeft: number;
};

export type TwoFactorForm =
	| {
			totp?: { ok: boolean; message: string };
			recovery?: { codes: string[]; others?: number } | { error: string } | null;
			/** The change was refused for want of proof (step-up). */
			stepUp?: { message: string; field: string | null };
	  }
	| null
	| undefined;
