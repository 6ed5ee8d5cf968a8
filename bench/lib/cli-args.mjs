// The benches' command line: `--name value` options and bare `--flag`s, read from process.argv.
export const args = process.argv.slice(2);

/** The value after `--name`, or `fallback` where the option is absent. */
export const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

/** Whether `--name` is given. */
export const flag = (name) => args.includes(`--${name}`);
