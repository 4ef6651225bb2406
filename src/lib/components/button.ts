// Button looks shared by every form, so that one page never has three shades of "primary".
export const primaryButton =
	'inline-flex items-center justify-center rounded-md bg-sky-500 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-sky-400 disabled:opacity-60';
export const secondaryButton =
	'inline-flex items-center justify-center rounded-md border border-slate-600 px-4 py-2 text-sm font-medium text-slate-100 hover:bg-slate-800 disabled:opacity-60';
export const plexButton =
	'inline-flex items-center justify-center rounded-md bg-amber-400 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-amber-300 disabled:opacity-60';
// Actions that destroy or replace something (delete, unlink, revert, restore).
export const dangerButton =
	'inline-flex items-center justify-center rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500 disabled:opacity-60';
export const dangerOutlineButton =
	'inline-flex items-center justify-center rounded-md border border-red-700 px-4 py-2 text-sm font-medium text-red-300 hover:bg-red-950 disabled:opacity-60';
