#!/usr/bin/env node
// Part of `npm run build`: the files tsc does not emit but dist/ needs beside the compiled code
// (the local workspace page's static files).
import { cpSync } from 'node:fs';

cpSync(new URL('../src/local/public/', import.meta.url), new URL('../dist/local/public/', import.meta.url), { recursive: true });
