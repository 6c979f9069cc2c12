/** FER2013's label order, fixed everywhere in fer (datasets, models, ONNX metadata). */
export const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type Emotion = (typeof CLASSES)[number];
export const NUM_CLASSES = CLASSES.length;
export const IMAGE_SIZE = 48;
