import * as v from 'valibot';
import { textField } from './fields';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const headerName = (label: string) =>
	v.pipe(
		textField,
		v.trim(),
		v.regex(
			HEADER_NAME,
			`${label} must be an HTTP header name (letters, digits and - _ . only, no spaces).`
		)
	);

const optionalText = v.pipe(
	textField,
	v.trim(),
	v.transform((s) => (s === '' ? null : s))
);

/**
 * Forward auth's "Proxy sign-out URL": an absolute http(s) URL (the proxy's portal), or a path on
 * this app's own address (an outpost served under it). A path starting `//` would leave the host
 * to the browser, so it is refused like any other relative form.
 */
export function isSignOutAddress(s: string): boolean {
	if (s.startsWith('/')) return !s.startsWith('//') && !s.startsWith('/\\');
	try {
		const url = new URL(s);
		return (
			(url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
		);
	} catch {
		return false;
	}
}

export const connectionSchema = v.pipe(
	v.object({
		ssoMode: v.picklist(['OIDC', 'FORWARD_AUTH'], 'Choose OIDC or Forward Auth.'),
		oidcIssuer: v.pipe(
			optionalText,
			v.check((s) => s === null || s.length <= 2048, 'The issuer URL is too long.'),
			v.check((s) => {
				if (s === null) return true;
				try {
					const url = new URL(s);
					return (
						(url.protocol === 'https:' || url.protocol === 'http:') &&
						!url.search &&
						!url.hash &&
						!url.username
					);
				} catch {
					return false;
				}
			}, 'Enter the issuer as an http(s) URL without query or fragment, e.g. https://auth.example.com/application/o/librariarr/')
		),
		oidcClientId: v.pipe(
			optionalText,
			v.check((s) => s === null || s.length <= 255, 'The client ID is too long.')
		),
		oidcClientSecret: v.pipe(textField, v.maxLength(1024, 'The client secret is too long.')),
		clearClientSecret: v.optional(v.string()),
		// A form from before the setting existed sends nothing: that is 'auto'.
		oidcClientAuthMethod: v.pipe(
			v.optional(v.string(), ''),
			v.transform((s) => s || 'auto'),
			v.picklist(
				['auto', 'client_secret_basic', 'client_secret_post', 'none'],
				'Choose how the client authenticates to the token endpoint.'
			)
		),
		oidcScopes: v.pipe(
			textField,
			v.trim(),
			v.transform((s) => s.split(/\s+/).filter(Boolean)),
			v.check(
				(list) => list.every((t) => SCOPE_TOKEN.test(t)),
				'Scopes are separated by spaces and contain no quotes or backslashes.'
			),
			v.check((list) => list.includes('openid'), 'The scopes must include openid.'),
			v.transform((list) => [...new Set(list)].join(' '))
		),
		oidcUsernameClaim: v.pipe(
			textField,
			v.trim(),
			v.regex(
				/^[A-Za-z0-9_.:-]{1,64}$/,
				'The username claim is a claim name such as preferred_username.'
			)
		),
		forwardAuthUserHeader: headerName('The user header'),
		forwardAuthEmailHeader: headerName('The email header'),
		forwardAuthNameHeader: headerName('The name header'),
		// A form from before the setting existed sends nothing: no proxy sign-out.
		forwardAuthLogoutUrl: v.pipe(
			v.optional(v.string(), ''),
			v.trim(),
			v.transform((s) => (s === '' ? null : s)),
			v.check((s) => s === null || s.length <= 2048, 'The sign-out URL is too long.'),
			v.check(
				(s) => s === null || (isSignOutAddress(s) && !/[\s<>"]/.test(s)),
				'Enter the sign-out URL as an http(s) URL, or a path on this address starting with /, e.g. https://auth.example.com/logout'
			)
		)
	}),
	v.forward(
		v.partialCheck(
			[['ssoMode'], ['oidcIssuer']],
			(i) => i.ssoMode !== 'OIDC' || i.oidcIssuer !== null,
			'OIDC needs the issuer URL.'
		),
		['oidcIssuer']
	),
	v.forward(
		v.partialCheck(
			[['ssoMode'], ['oidcClientId']],
			(i) => i.ssoMode !== 'OIDC' || i.oidcClientId !== null,
			'OIDC needs the client ID.'
		),
		['oidcClientId']
	)
);

export const subjectSchema = v.pipe(
	textField,
	v.trim(),
	v.minLength(1, 'Paste the subject.'),
	v.maxLength(255, 'A subject has at most 255 characters.')
);
