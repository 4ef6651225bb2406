// A real TLS-terminating reverse proxy for tests/e2e/security-diagnostics.spec.ts: nginx with a
// throwaway self-signed certificate (made by openssl), passing plain HTTP on to an app instance
// with the usual X-Forwarded-* headers. Whether the app trusts it is up to that app's
// TRUSTED_PROXIES.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/pg.js';

export type TlsProxy = { url: string; port: number; logs: () => string; stop: () => Promise<void> };

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

function config(dir: string, port: number, appPort: number) {
	return `# Written by tests/e2e/tls-proxy.ts
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }

http {
	access_log ${dir}/access.log;
	client_body_temp_path ${dir}/tmp/client_body;
	proxy_temp_path ${dir}/tmp/proxy;
	fastcgi_temp_path ${dir}/tmp/fastcgi;
	uwsgi_temp_path ${dir}/tmp/uwsgi;
	scgi_temp_path ${dir}/tmp/scgi;

	server {
		listen 127.0.0.1:${port} ssl;
		ssl_certificate ${dir}/cert.pem;
		ssl_certificate_key ${dir}/key.pem;

		location / {
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_pass http://127.0.0.1:${appPort};
		}
	}
}
`;
}

async function listening(port: number) {
	return new Promise<boolean>((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

export async function startTlsProxy(appPort: number): Promise<TlsProxy> {
	if (!fs.existsSync(NGINX))
		throw new Error(`nginx is not installed at ${NGINX} (apt-get install nginx-light)`);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-tls-'));
	fs.chmodSync(dir, 0o755); // nginx's workers run as another user when the tests run as root
	fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o777 });
	fs.chmodSync(path.join(dir, 'tmp'), 0o777);
	const cert = spawnSync(
		'openssl',
		[
			'req',
			'-x509',
			'-newkey',
			'rsa:2048',
			'-nodes',
			'-days',
			'1',
			'-subj',
			'/CN=127.0.0.1',
			'-addext',
			'subjectAltName=IP:127.0.0.1',
			'-keyout',
			path.join(dir, 'key.pem'),
			'-out',
			path.join(dir, 'cert.pem')
		],
		{ encoding: 'utf8' }
	);
	if (cert.status !== 0) throw new Error(`openssl could not make a certificate:\n${cert.stderr}`);
	const port = await freePort();
	fs.writeFileSync(path.join(dir, 'nginx.conf'), config(dir, port, appPort));
	const child = spawn(
		NGINX,
		['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf')],
		{
			stdio: ['ignore', 'pipe', 'pipe']
		}
	);
	const lines: string[] = [];
	for (const stream of [child.stdout!, child.stderr!]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk: string) => lines.push(chunk));
	}
	const logs = () => {
		const file = path.join(dir, 'error.log');
		return lines.join('') + (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
	};
	const exited = new Promise((resolve) => child.once('exit', resolve));
	const deadline = Date.now() + 15_000;
	while (!(await listening(port))) {
		if (child.exitCode !== null || Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`nginx did not start listening on ${port}:\n${logs()}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		url: `https://127.0.0.1:${port}`,
		port,
		logs,
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGQUIT');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}
