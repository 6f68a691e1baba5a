import * as tf from '@tensorflow/tfjs';
import type { Argv } from 'yargs';
import { backendReport, initBackend, NATIVE_GPU_REQUIREMENTS } from '../learning/backend.js';

export const doctorCommand = {
  command: 'doctor',
  describe: 'List every TF.js backend: available or not and why, versions, GPU device or WebGPU adapter, and what --backend auto picks',
  builder: (yargs: Argv) => yargs,
  handler: async () => {
    process.stdout.write(`clicklab doctor: Node ${process.version} (${process.platform}-${process.arch}), @tensorflow/tfjs ${tf.version.tfjs}\n\n`);
    const report = await backendReport();
    const width = Math.max(...report.map((s) => s.backend.length));
    for (const s of report) process.stdout.write(`${s.backend.padEnd(width)}  ${s.available ? 'yes' : 'no '}  ${s.detail}\n`);
    process.stdout.write('\n');
    const auto = await initBackend('auto');
    process.stdout.write(`--backend auto picks: ${auto.name} (${auto.description})\n`);
    process.stdout.write(`tfjs-node-gpu needs ${NATIVE_GPU_REQUIREMENTS}.\n`);
  },
};
