import type { ActionResult, SubmitFunction } from '@sveltejs/kit';

/**
 * "Busy while submitting" for a form enhanced with `use:enhance`: one instance per form.
 *
 *     const saving = new Busy();
 *     <form use:enhance={saving.submit}> … <BusyButton busy={saving} label="Save" … />
 *
 * `pending` is true from the submit until the page has been updated with the answer (also when
 * the request fails). `action` names the action that is running (`?/test` → `test`), so a form
 * with several buttons can label only the one that was pressed. Without JavaScript the browser
 * shows its own progress and none of this runs.
 */
export class Busy {
	pending = $state(false);
	action = $state<string | null>(null);

	/**
	 * @param options.reset clear the form after a successful answer (SvelteKit's default: true).
	 * @param options.after runs after the update, with the form element and the action's answer
	 *   (to clear a secret once it was saved, say).
	 */
	constructor(
		private readonly options: {
			reset?: boolean;
			/** Load the page again after the answer (default true); false for a page the action ends. */
			invalidateAll?: boolean;
			after?: (form: HTMLFormElement, result: ActionResult) => void;
		} = {}
	) {}

	submit: SubmitFunction = ({ action, formElement }) => {
		this.pending = true;
		this.action = action.search.startsWith('?/') ? action.search.slice(2) : null;
		return async ({ update, result }) => {
			try {
				await update({
					reset: this.options.reset ?? true,
					invalidateAll: this.options.invalidateAll ?? true
				});
				this.options.after?.(formElement, result);
			} finally {
				this.pending = false;
				this.action = null;
			}
		};
	};

	/**
	 * For a plain form whose answer leaves the page (a redirect to plex.tv): `onsubmit={busy.leave}`.
	 * Busy until the browser has gone; not busy again when it comes back from its back/forward
	 * cache (the back button), where the page would otherwise keep a disabled button.
	 */
	leave = () => {
		this.pending = true;
		this.action = null;
		addEventListener('pageshow', () => (this.pending = false), { once: true });
	};

	/** True while the named action (`test` for `?/test`) of this form is running. */
	running(action: string): boolean {
		return this.pending && this.action === action;
	}
}
