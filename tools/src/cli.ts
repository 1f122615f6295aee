/** What the command-line tools share: refusing bad arguments the same way, with their usage. */
export function cliChecks(usage: string) {
  /** Prints the problem and the usage, and exits with status 2. */
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n\n${usage}\n`);
    process.exit(2);
  };
  /** `--name`'s value as a whole number from `min` to `max`, or `fail`. */
  const whole = (name: string, text: string | undefined, min: number, max: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      fail(`--${name} must be an integer from ${min} to ${max}`);
    return value;
  };
  return { fail, whole };
}
