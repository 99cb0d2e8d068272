/**
 * Preloaded (node --import) into the ImageNet example's workers by its failure test, as a node
 * whose environment is broken: rank 1 reads an unreadable MASTER_PORT and fails with the
 * example's own ERR_INVALID_ARG before it joins; rank 0 waits to join until the launcher stops it.
 */
if (process.env.RANK === '1') process.env.MASTER_PORT = 'not-a-port';
