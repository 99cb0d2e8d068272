/**
 * The optimizer a config names (optimizer.name): the fused SGD, or AdamW with its Sign-In route.
 * With excludeBnAndBias, SGD leaves 1-D parameters undecayed and AdamW also pos_embed and
 * cls_token (timm's split for ViTs). Create it after pruning, applySignIn and model.to().
 */
import type { Module } from '../nn/module';
import { AdamW, isNormBiasOrToken } from '../optim/adamw';
import { isNormOrBias, SGD } from '../optim/sgd';
import type { ExperimentConfig } from './schema';

export function optimizerFor(config: ExperimentConfig, model: Module): SGD | AdamW {
  const o = config.optimizer;
  if (o.name === 'adamw') {
    return AdamW.forModel(model, {
      lr: o.lr, betas: [o.betas[0], o.betas[1]], eps: o.eps, weightDecay: o.weightDecay,
      noWeightDecay: o.excludeBnAndBias ? isNormBiasOrToken : undefined,
    });
  }
  return SGD.forModel(model, {
    lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay,
    noWeightDecay: o.excludeBnAndBias ? isNormOrBias : undefined,
  });
}
