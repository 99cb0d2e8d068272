// Jest's setupFilesAfterEnv: the test file's own afterAll hooks are declared after this one and so
// run after it; none of them reads a directory made by tempDir().
import { removeTempDirs } from './temp';

afterAll(removeTempDirs);
