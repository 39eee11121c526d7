// Asking the chain (docs/receipt.md section 3): plain JSON-RPC over HTTP with fetch, ethers only
// for ABI coding. Read-only: eth_chainId, eth_getCode, eth_call, eth_getTransactionReceipt.
import { AbiCoder, id as keccakText, toBeHex } from "ethers";

/** The node did not answer (refused, timed out). */
export class ChainUnreachable extends Error {}
/** The node answered something unusable, or a JSON-RPC error (`rpcError` holds it). */
export class ChainError extends Error {
  constructor(message, rpcError = null) {
    super(message);
    this.rpcError = rpcError;
  }
}

const abi = AbiCoder.defaultAbiCoder();
const TIMEOUT_MS = 15000;

export const SELECTORS = Object.freeze({
  checkCertificate: "0xfcfd3fe1",
  hasRole: "0x91d14854",
  currentProfile: "0x1140444c",
});
export const ISSUER_ROLE = keccakText("ISSUER_ROLE");
export const ROOT_ANCHORED = "0x62e872bd24dad4a8e80606d4614e6b24a25198e85dd344a1d5eda82791615fce";

export class Node {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
  }

  async request(method, params) {
    const body = JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params });
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new ChainUnreachable(`no answer from the node: ${error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.message}`);
    }
    let answer;
    try {
      answer = await response.json();
    } catch {
      throw new ChainError(`the node's answer is not JSON (HTTP ${response.status})`);
    }
    if (answer && answer.error) throw new ChainError(`JSON-RPC error: ${answer.error.message}`, answer.error);
    if (!answer || !("result" in answer)) throw new ChainError("the node's answer has no result");
    return answer.result;
  }

  async chainId() {
    return BigInt(hexString(await this.request("eth_chainId", []), "eth_chainId"));
  }

  async hasCode(contract) {
    return hexString(await this.request("eth_getCode", [contract, "latest"]), "eth_getCode") !== "0x";
  }

  async call(contract, data, block = "latest") {
    return hexString(await this.request("eth_call", [{ to: contract, data }, block]), "eth_call");
  }

  async checkCertificate(contract, leaf, proof) {
    const data = SELECTORS.checkCertificate + abi.encode(["bytes32", "bytes32[]"], [leaf, proof]).slice(2);
    // Docs section 3.2: ten static words, the anchoring, the revocation, the suspension.
    const [root, anchoredAt, anchorBlock, anchoredBy, revokedAt, revocationReason, revokedBy, suspendedAt, suspensionReason, suspendedBy] =
      decode(
        ["bytes32", "uint64", "uint64", "address", "uint64", "uint8", "address", "uint64", "uint8", "address"],
        await this.call(contract, data),
      );
    return Object.freeze({
      root, anchoredAt, anchorBlock, anchoredBy: anchoredBy.toLowerCase(),
      revokedAt, revocationReason, revokedBy: revokedBy.toLowerCase(),
      suspendedAt, suspensionReason, suspendedBy: suspendedBy.toLowerCase(),
    });
  }

  async hasIssuerRole(contract, account, blockNumber) {
    const data = SELECTORS.hasRole + abi.encode(["bytes32", "address"], [ISSUER_ROLE, account]).slice(2);
    const [held] = decode(["bool"], await this.call(contract, data, toBeHex(blockNumber)));
    return held;
  }

  async currentProfile(contract) {
    const data = await this.call(contract, SELECTORS.currentProfile);
    // docs/profile.md section 4: exactly two 32-byte words, else an unusable answer.
    if (typeof data !== "string" || data.length !== 2 + 128) throw new ChainError("currentProfile(): not two 32-byte words");
    const [profileHash, publishedAt] = decode(["bytes32", "uint64"], data);
    return Object.freeze({ profileHash, publishedAt });
  }

  async transactionReceipt(hash) {
    return this.request("eth_getTransactionReceipt", [hash]);
  }
}

function hexString(value, what) {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]*$/.test(value)) throw new ChainError(`${what}: not hex`);
  return value;
}

function decode(types, data) {
  try {
    return abi.decode(types, data);
  } catch {
    throw new ChainError(`an answer that does not decode as (${types.join(", ")})`);
  }
}
