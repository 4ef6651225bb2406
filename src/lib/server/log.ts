// One line per event on stdout/stderr: time, level, message, then key=value pairs. Admins grep
// these (`docker logs librariarr | grep …`), so messages are stable and values are quoted only
// when they need to be. Never pass a password or token in here.
import { config } from './config';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;
type Fields = Record<string, string | number | boolean | null | undefined>;

function format(value: string | number | boolean | null): string {
	const text = String(value);
	// Control characters (CR/LF above all) would let a hostile value forge log lines.
	const safe = text.replace(
		/[\u0000-\u001f\u007f]/g,
		(c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
	);
	return /[\s"=]/.test(safe) || safe === '' ? JSON.stringify(safe) : safe;
}

function write(level: Level, message: string, fields: Fields = {}) {
	if (LEVELS[level] < (LEVELS[config.logLevel] ?? LEVELS.info)) return;
	const parts = Object.entries(fields)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${k}=${format(v as string)}`);
	const line = [new Date().toISOString(), level.toUpperCase(), message, ...parts].join(' ');
	if (level === 'error' || level === 'warn') console.error(line);
	else console.log(line);
}

/** How long a repeatable error stays quiet after its line, and how many causes are remembered. */
export const REPEAT_WINDOW_MS = 5 * 60 * 1000;
const MAX_REPEAT_KEYS = 500;
const repeats = new Map<string, { at: number; quiet: number }>();

/**
 * An error that anonymous requests can set off again and again (a sign-in start while the
 * provider's discovery fails): one line per distinct message and fields per window, and the next
 * line says how many were kept quiet in between. Memory: at most MAX_REPEAT_KEYS causes, the
 * oldest forgotten first (a forgotten one is only logged once more).
 */
function errorOncePerWindow(message: string, fields: Fields = {}) {
	const key = JSON.stringify([message, fields]);
	const now = Date.now();
	const seen = repeats.get(key);
	if (seen && now - seen.at < REPEAT_WINDOW_MS) {
		seen.quiet++;
		return;
	}
	repeats.delete(key);
	if (repeats.size >= MAX_REPEAT_KEYS) repeats.delete(repeats.keys().next().value!);
	repeats.set(key, { at: now, quiet: 0 });
	write('error', message, seen?.quiet ? { ...fields, repeatsNotLogged: seen.quiet } : fields);
}

export const log = {
	debug: (message: string, fields?: Fields) => write('debug', message, fields),
	info: (message: string, fields?: Fields) => write('info', message, fields),
	warn: (message: string, fields?: Fields) => write('warn', message, fields),
	error: (message: string, fields?: Fields) => write('error', message, fields),
	errorOncePerWindow
};
