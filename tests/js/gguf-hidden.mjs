// node gguf-hidden.mjs MODEL.gguf "ID ID ..." -> {"hidden": [...]}: llama.cpp's final-norm hidden state at the
// last token (an embeddings context, no pooling). Flash attention off and an f32 KV cache: both would round
// through fp16 otherwise, which would hide what the weights' type alone does. Run with NODE_PATH pointing at scripts/llama-cpp.sh's node_modules.
import {createRequire} from "node:module";
const require = createRequire(process.env.LLAMA_CPP_DIR + "/");
const {getLlama} = await import(require.resolve("node-llama-cpp"));
const [modelPath, idsText] = process.argv.slice(2);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: 256, threads: 2, _embeddings: true, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
const ids = idsText.trim().split(/\s+/).map(Number);
const sequence = context.getSequence();
for await (const _ of sequence.evaluate(ids, {_noSampling: true})) break;
console.log(JSON.stringify({hidden: Array.from(context._ctx.getEmbedding(ids.length))}));
process.exit(0);
