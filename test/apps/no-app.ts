/** A module with no app in it: loading it as one is refused. */
export const notAnApp = { name: 'counters' };
