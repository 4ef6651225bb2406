import { afterEach, describe, expect, test, vi } from 'vitest';
import { log, REPEAT_WINDOW_MS } from '../../src/lib/server/log';

afterEach(() => {
	vi.useRealTimers();
	vi.restoreAllMocks();
});

describe('an error anonymous requests can repeat is logged once per cause and window', () => {
	test('100 of one cause are one line; another cause has its own; after the window, one more saying how many were quiet', () => {
		vi.useFakeTimers();
		const lines: string[] = [];
		vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
		for (let i = 0; i < 100; i++) log.errorOncePerWindow('Start failed', { reason: 'refused' });
		log.errorOncePerWindow('Start failed', { reason: 'timeout' });
		expect(lines).toHaveLength(2);
		expect(lines[0]).toMatch(/ ERROR Start failed reason=refused$/);
		vi.advanceTimersByTime(REPEAT_WINDOW_MS);
		log.errorOncePerWindow('Start failed', { reason: 'refused' });
		expect(lines).toHaveLength(3);
		expect(lines[2]).toMatch(/reason=refused repeatsNotLogged=99$/);
	});
});
