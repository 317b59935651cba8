// dwv's ES module imports "magic-wand-tool"; its UMD build sets window.MagicWand.
export default globalThis.MagicWand;
