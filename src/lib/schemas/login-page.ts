import * as v from 'valibot';
import { textField } from './fields';

export const SSO_BUTTON_TEXT_MAX = 40;
export const SSO_BUTTON_TEXT_DEFAULT = 'Sign in with SSO';

/** Settings → Authentication, "Login page": the words on the SSO button. */
export const ssoButtonTextSchema = v.object({
	ssoButtonText: v.pipe(
		textField,
		v.trim(),
		v.minLength(1, 'Enter the words for the button.'),
		v.maxLength(
			SSO_BUTTON_TEXT_MAX,
			`Keep the button text to ${SSO_BUTTON_TEXT_MAX} characters or fewer.`
		)
	)
});
