/**
 * The library's logger (architecture.md decision 10): pino, JSON lines by default, pretty when
 * stdout is a TTY. Level from SIGNIN_TORCH_LOG_LEVEL (default 'info').
 */
import pino, { type Logger } from 'pino';

let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const level = process.env.SIGNIN_TORCH_LOG_LEVEL ?? 'info';
    root = process.stdout.isTTY
      ? pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } })
      : pino({ level, base: undefined });
  }
  return root;
}

/** Replaces the library logger (e.g. to route logs into an application's own pino instance). */
export function setLogger(l: Logger): void {
  root = l;
}

export function childLogger(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}
