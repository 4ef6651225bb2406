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
			recovery?: { codes: string[] } | null;
	  }
	| null
	| undefined;
