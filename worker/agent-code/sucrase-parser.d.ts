// Types for the parts of sucrase's parser that instrument.ts uses (sucrase ships them, under dist/types).
declare module "sucrase/dist/esm/parser/index.js" {
  export { File, parse } from "sucrase/dist/types/parser/index";
}
declare module "sucrase/dist/esm/parser/tokenizer/types.js" {
  export { TokenType } from "sucrase/dist/types/parser/tokenizer/types";
}
declare module "sucrase/dist/esm/parser/tokenizer/keywords.js" {
  export { ContextualKeyword } from "sucrase/dist/types/parser/tokenizer/keywords";
}
