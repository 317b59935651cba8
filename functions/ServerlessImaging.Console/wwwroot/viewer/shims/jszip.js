// dwv's ES module imports "jszip"; the package ships only a UMD build, loaded first as a classic script.
export default globalThis.JSZip;
